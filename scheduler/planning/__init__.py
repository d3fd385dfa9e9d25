"""The pure core: working days, the planner, the action chain of a meeting, the due
policy and the records of the schedule. No I/O; the clock and the time zone are passed in."""
