"""Linli (邻里): one system for a neighbourhood in a lockdown or a disaster."""
