"""``radar`` sub-commands, one module per topic, each exposing ``register(app)``."""
