"""MCP client side: the servers a session connects to and the hub that routes tool calls."""
