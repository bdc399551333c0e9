// Tests for Integration.
