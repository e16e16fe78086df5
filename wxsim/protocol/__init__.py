"""wxsim's own implementation of WeChat's callback protocol (deliberately separate from Liucun's)."""
