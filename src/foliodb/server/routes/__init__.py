"""One module per resource; each route parses, makes one service call and renders."""
