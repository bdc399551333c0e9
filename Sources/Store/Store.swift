// The Store module: see docs/architecture.md.
