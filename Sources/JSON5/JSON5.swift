// The JSON5 module: see docs/architecture.md.
