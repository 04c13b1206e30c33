"""Local stand-ins for Google and Slack APIs: real HTTP servers on 127.0.0.1 that the real client
libraries talk to. They answer from recorded JSON and record every request they receive."""
