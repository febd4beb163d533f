"""What the configured stacks cost and what they save, from measured volume and cited prices:
`orgtrail cost`. Every figure names the count it was measured from and the price it used."""
