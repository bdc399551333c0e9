// The Mapping module: see docs/architecture.md.
