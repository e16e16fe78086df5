"""wxsim's HTTP API: WeChat's endpoints per area, and the control API under /wxsim/."""
