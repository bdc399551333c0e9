// Tests for Mapping.
