// The SourceFormats module: see docs/architecture.md.
