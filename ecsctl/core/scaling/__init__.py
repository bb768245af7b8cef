"""Service Auto Scaling and capacity providers, pure (ecs-semantics §6, §7).

* ``model``          the ``autoScaling`` manifest shape compiled into typed policies
* ``adjustments``    step-scaling arithmetic (bounds, PercentChangeInCapacity rounding)
* ``alarms``         CloudWatch alarm evaluation over one-minute datapoints
* ``target_tracking`` the proportional capacity target tracking asks for
* ``scheduled``      scheduled actions: new bounds, desired count pulled into them
* ``activities``     scaling activities in Application Auto Scaling's wording
* ``engine``         ``step(state, minute_inputs)``: one simulated minute of one service
* ``demand``         the closed loop: demand ÷ running tasks → the metrics the policies see
* ``whatif``         replaying a series of minutes through the engine, changing nothing
* ``compiled``       the same replay as one walk generated per policy-set shape (the fast path)
* ``capacity``       capacity provider strategies and managed scaling, as arithmetic

Nothing here reads the wall clock: time is handed in, as whole minutes since the
Unix epoch (UTC), so that a week of minutes costs no datetime arithmetic.
"""
