"""Login, logout and the home page of each role."""
