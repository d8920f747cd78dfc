"""Algorithms beyond the assignment, reached through the public API: Taylor mode and edge pushing."""
