"""The top of the stack: the Litestar app assembled from every area's controllers and the extensions, its middleware, error pages and the home page."""
