"""nighthawk."""
