"""Models of the help app."""
