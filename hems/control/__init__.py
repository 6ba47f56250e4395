"""The control loop: poll -> state -> replan when due -> arbitrate -> safety clamp -> write."""
