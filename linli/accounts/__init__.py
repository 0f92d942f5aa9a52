"""Users, roles, API tokens and the login rules around them."""
