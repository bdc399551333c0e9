// Tests for DemoDepartments.
