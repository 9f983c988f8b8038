"""Clinicbot core: settings, clinic store, engine client, gateway, CLI."""
