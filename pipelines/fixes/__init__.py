"""Generated fixes: the change that makes a failing mechanical check pass (`scorecard fix`).

One pure module per kind of fix; :data:`GENERATORS` maps each check id to its
module's ``generate``. Everything else is not mechanical and gets a reason.
"""
