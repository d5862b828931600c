"""``mailroom route`` and ``mailroom routing ...`` — owned by the routing work (issue 5)."""
