// Tests for SourceFormats.
