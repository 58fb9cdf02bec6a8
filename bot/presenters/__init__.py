"""What templates need to show things: plain values, masked for the audience, no words
and no Slack calls. One module per thing shown (requests, reminders)."""
