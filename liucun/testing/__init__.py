"""Test support shared by Liucun's test suites (not imported by production code)."""
