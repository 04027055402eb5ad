"""Publishing: built feed files go to feed hosts, then WebSub hubs hear about them."""
