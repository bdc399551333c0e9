// Tests for Catalog.
