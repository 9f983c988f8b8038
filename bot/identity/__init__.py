"""Who is this: patients proving who they are before any PHI (``verification``), and staff accounts and
console sessions (``staff``)."""
