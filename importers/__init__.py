"""Feed parsers. Pure code: they depend on nothing of ours and never touch the database."""
