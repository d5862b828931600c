"""Who is acting: staff principals, their permissions, local accounts and OpenID Connect."""
