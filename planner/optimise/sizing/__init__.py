"""Sites and chargers together: the sizing model and the queueing maths behind it."""
