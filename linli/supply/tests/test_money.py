"""Fen ↔ yuan and grams → kg, as people read and type them."""

from __future__ import annotations

from django.test import SimpleTestCase

from linli.lib.money import fen_to_yuan, grams_to_kg, yuan_to_fen


class MoneyTest(SimpleTestCase):
    def test_it_shows_fen_as_yuan(self) -> None:
        self.assertEqual(fen_to_yuan(123456), "¥1,234.56")
        self.assertEqual(fen_to_yuan(5), "¥0.05")
        self.assertEqual(fen_to_yuan(-250), "-¥2.50")

    def test_it_reads_yuan_with_at_most_two_decimals(self) -> None:
        self.assertEqual(yuan_to_fen("48"), 4800)
        self.assertEqual(yuan_to_fen("¥48.5"), 4850)
        self.assertEqual(yuan_to_fen("1,099.09"), 109909)
        for bad in ("48.123", "-1", "abc", "", "1e3"):
            self.assertIsNone(yuan_to_fen(bad), bad)

    def test_it_shows_grams_as_kg(self) -> None:
        self.assertEqual(grams_to_kg(1620000), "1,620.0 kg")
