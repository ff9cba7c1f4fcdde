"""What is checked: one module per standard family."""
