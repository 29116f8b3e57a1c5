"""What the customers app contributes at start-up besides navigation and permissions: the demo
data step (``credo seed_demo``)."""

from credo.customers import demo

demo.register()
