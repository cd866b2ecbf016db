"""Marketing campaigns: the list with sourced revenue per period, and the create/edit form."""
