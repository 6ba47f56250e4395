"""The planner: pure numpy, arrays in, plan out. No I/O, no clock reads.

    problem = Problem.from_json(data)        # or Problem(...) with arrays
    result = solve(problem)                  # Result: ev_w, soc_pct, grid_w, cost, breakdown, ...
    envelope = flexibility(problem, result)  # Envelope: up_w, down_w, soc_min_pct, soc_max_pct
"""
from hems.planner.dp import solve
from hems.planner.envelope import Envelope, flexibility
from hems.planner.problem import Problem, ProblemError
from hems.planner.result import Result

__all__ = ["Envelope", "Problem", "ProblemError", "Result", "flexibility", "solve"]
