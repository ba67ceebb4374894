"""Facts of the reference application (the "Compliant API") that the drills and the twin share.

The twin seeds them (its primary creates the database and role, its sample data the smoke-test
user); the drills and faults use them against any environment running the application. They
live here, not in the twin, so that a drill logging in does not import the local environment.
"""

from __future__ import annotations

#: The application's database and its login role.
APP_DATABASE = "compliant"
APP_USER = "compliant_app"

#: The reference's smoke-test login (DR procedures, Scenario 1, "Test authentication").
TEST_USER_EMAIL = "test@example.com"
TEST_USER_PASSWORD = "test123"  # a published sample credential
