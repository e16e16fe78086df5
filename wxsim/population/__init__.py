"""The simulated fan population: who follows through which channel, what they do, and when they leave."""
