"""core.fitting's temporal penalties."""

import torch

from core.fitting import acceleration, smoothness


def test_acceleration_is_zero_at_a_steady_rate_and_counts_each_change_of_it():
    t = torch.arange(6, dtype=torch.float64)[:, None, None]
    steady = 0.3 * t.expand(6, 2, 3)  # every coordinate at 0.3 per frame
    assert float(acceleration(steady)) < 1e-20
    assert float(smoothness(steady)) > 0  # the first differences pull a steady motion too
    kicked = steady.clone()
    kicked[3] += 0.5  # one frame 0.5 off: second differences 0.5, -1, 0.5 on each of 6 coordinates
    assert abs(float(acceleration(kicked)) - 6 * (0.25 + 1 + 0.25)) < 1e-12
    assert float(acceleration(steady[:2])) == 0.0  # too short to have one
