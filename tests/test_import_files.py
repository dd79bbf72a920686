"""Reading uploaded files: a corpus of nasty files, each read right or refused in French.

Every file is made here, in tmp_path: nothing is committed but this code.
"""

import codecs
import csv
import datetime as dt
import io
import zipfile
from xml.sax.saxutils import escape

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lien.imports.files import (
    FileError,
    Row,
    column_letter,
    format_mo,
    make_headers,
    open_table,
    sniff,
)

FRENCH = "Nom;Prénom;Ville\nDurand;Hélène;Orléans\nLefèvre;Zoé;Besançon\n"


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows(table):
    return [(number, cells) for number, cells in table.rows()]


def refused(source, **kwargs) -> str:
    with pytest.raises(FileError) as caught:
        open_table(source, **kwargs)
    return caught.value.message


# Encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (FRENCH.encode("utf-8"), "utf-8"),
        (FRENCH.encode("utf-8-sig"), "utf-8-sig"),
        (FRENCH.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + FRENCH.encode("utf-16-be"), "utf-16"),
        (FRENCH.encode("utf-16-le"), "utf-16-le"),
        (FRENCH.encode("utf-16-be"), "utf-16-be"),
        (FRENCH.encode("latin-1"), "latin-1"),
        (FRENCH.replace("\n", "\r\n").encode("cp1252"), "latin-1"),
    ],
)
def test_encodings_are_detected_and_accents_read(tmp_path, data, encoding):
    table = open_table(write(tmp_path, "contacts.csv", data))
    assert table.info.kind == "csv"
    assert table.info.encoding == encoding
    assert table.info.delimiter == ";"
    assert table.headers == ["Nom", "Prénom", "Ville"]
    assert rows(table) == [
        (2, ["Durand", "Hélène", "Orléans"]),
        (3, ["Lefèvre", "Zoé", "Besançon"]),
    ]


def test_windows_1252_punctuation_is_not_read_as_latin_1(tmp_path):
    text = "Nom;Note\nŒuvre;L’été coûte 12 € « net »\n"
    table = open_table(write(tmp_path, "notes.csv", text.encode("cp1252")))
    assert table.info.encoding == "cp1252"
    assert table.info.encoding_label == "Windows-1252"
    assert rows(table) == [(2, ["Œuvre", "L’été coûte 12 € « net »"])]


def test_mac_roman_from_an_old_excel_for_mac(tmp_path):
    text = "Nom;Prénom;Ville\nLefèvre;Hélène;Besançon\nDurand;Zoé;Orléans\n"
    table = open_table(write(tmp_path, "mac.csv", text.encode("mac_roman")))
    assert table.info.encoding == "mac_roman"
    assert table.headers == ["Nom", "Prénom", "Ville"]
    assert rows(table)[0] == (2, ["Lefèvre", "Hélène", "Besançon"])
    chosen = open_table(write(tmp_path, "mac.csv", text.encode("mac_roman")), encoding="mac-roman")
    assert chosen.info.encoding_label == "Mac Roman"


def test_a_few_central_european_letters_among_french_accents_stay_windows_1252(tmp_path):
    text = "Nom;Ville\nŽižek;Orléans\nDurand;Besançon\n"
    table = open_table(write(tmp_path, "cp.csv", text.encode("cp1252")))
    assert table.info.encoding == "cp1252"
    assert rows(table)[0] == (2, ["Žižek", "Orléans"])


def test_windows_quotes_without_accents_stay_windows_1252(tmp_path):
    text = "Name;Note\nSmith;“It’s fine” – really…\n"
    table = open_table(write(tmp_path, "en.csv", text.encode("cp1252")))
    assert table.info.encoding == "cp1252"
    assert rows(table) == [(2, ["Smith", "“It’s fine” – really…"])]


def test_the_whole_file_decides_not_just_its_beginning(tmp_path):
    # 100 000 ASCII bytes, then one « ’ » in Windows-1252: UTF-8 for the sample only.
    lines = ["Nom;Ville"] + [f"Nom{i};Paris" for i in range(10_000)] + ["L’Hôte;Saint-Étienne"]
    data = ("\n".join(lines) + "\n").encode("cp1252")
    table = open_table(write(tmp_path, "long.csv", data))
    assert table.info.encoding == "cp1252"
    last = list(table.rows())[-1]
    assert last == (10_002, ["L’Hôte", "Saint-Étienne"])


def test_late_latin_1_accent_after_a_utf8_looking_start(tmp_path):
    lines = ["Nom;Ville"] + [f"Nom{i};Paris" for i in range(10_000)] + ["Hélène;Orléans"]
    data = ("\n".join(lines) + "\n").encode("latin-1")
    table = open_table(write(tmp_path, "long.csv", data))
    assert table.info.encoding == "latin-1"
    assert list(table.rows())[-1].cells == ["Hélène", "Orléans"]


def test_a_chosen_encoding_that_cannot_read_the_file_names_the_line(tmp_path):
    data = "Nom;Ville\nDurand;Paris\nHélène;Orléans\n".encode("cp1252")
    message = refused(write(tmp_path, "dons.csv", data), encoding="utf-8")
    assert message == (
        "Le fichier « dons.csv » ne peut pas être lu en UTF-8 : octet 0xE9 invalide "
        "à la ligne 3. Choisissez un autre encodage."
    )
    table = open_table(write(tmp_path, "dons.csv", data), encoding="Latin-1")
    assert table.info.encoding == "latin-1"
    assert rows(table)[-1] == (3, ["Hélène", "Orléans"])
    assert refused(write(tmp_path, "dons.csv", data), encoding="klingon") == (
        "Encodage inconnu : « klingon »."
    )
    assert refused(write(tmp_path, "dons.csv", data), encoding="rot13") == (
        "Encodage inconnu : « rot13 »."
    )


def test_utf16_chosen_for_a_file_without_bom_reads_it_little_endian(tmp_path):
    path = write(tmp_path, "u.csv", FRENCH.encode("utf-16-le"))
    table = open_table(path, encoding="utf-16")
    assert table.info.encoding == "utf-16-le"
    assert table.headers == ["Nom", "Prénom", "Ville"]


def test_utf8_chosen_on_a_file_with_bom_drops_the_bom(tmp_path):
    table = open_table(write(tmp_path, "a.csv", FRENCH.encode("utf-8-sig")), encoding="utf-8")
    assert table.headers[0] == "Nom"


# Delimiters, quotes, blank lines --------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_each_delimiter_is_detected(tmp_path, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Nom", "Montant", "Note"])
    for i in range(60):
        writer.writerow([f"Nom {i}", "1 234,50", "a, b; c | d"])
    table = open_table(write(tmp_path, "dons.csv", buffer.getvalue().encode()))
    assert table.info.delimiter == delimiter
    assert table.headers == ["Nom", "Montant", "Note"]
    assert table.preview(1) == [(2, ["Nom 0", "1 234,50", "a, b; c | d"])]


def test_a_single_column_file(tmp_path):
    table = open_table(write(tmp_path, "emails.csv", b"Email\na@x.fr\nb@y.fr\n"))
    assert table.headers == ["Email"]
    assert rows(table) == [(2, ["a@x.fr"]), (3, ["b@y.fr"])]


def test_a_stray_nul_byte_is_read_not_refused(tmp_path):
    table = open_table(write(tmp_path, "nul.csv", b"Nom;Ville\nDurand\x00;Paris\n"))
    assert rows(table) == [(2, ["Durand\x00", "Paris"])]


def test_semicolon_file_full_of_decimal_commas(tmp_path):
    text = "Nom;Montant;Date\nA;12,50;03/11/2021\nB;1 234,50;04/11/2021\nC;3,00;05/11/2021\n"
    table = open_table(write(tmp_path, "dons.csv", text.encode()))
    assert table.info.delimiter == ";"
    assert rows(table)[1] == (3, ["B", "1 234,50", "04/11/2021"])


def test_quoted_newlines_blank_lines_and_row_numbers_as_a_spreadsheet_shows_them(tmp_path):
    text = (
        "Nom;Adresse;Note\n"
        "\n"
        'Durand;"12 rue des Lilas\nBâtiment B";"dit ""le grand"""\n'
        ";;\n"
        "   ;  ;\n"
        'Martin;"1; place";ok\n'
    )
    table = open_table(write(tmp_path, "contacts.csv", text.encode()))
    assert rows(table) == [
        (3, ["Durand", "12 rue des Lilas\nBâtiment B", 'dit "le grand"']),
        (6, ["Martin", "1; place", "ok"]),
    ]


def test_formulas_are_read_as_text_untouched(tmp_path):
    text = "Nom;Formule;Tel\nA;=SUM(A1:A3);+33 6 12 34 56 78\nB;@cmd;-2+3\n"
    table = open_table(write(tmp_path, "f.csv", text.encode()))
    assert [cells for _, cells in table.rows()] == [
        ["A", "=SUM(A1:A3)", "+33 6 12 34 56 78"],
        ["B", "@cmd", "-2+3"],
    ]


def test_unclosed_quote_is_refused_with_its_line(tmp_path):
    text = 'Nom;Note\nA;ok\nB;"jamais fermé\nC;x\n'
    assert refused(write(tmp_path, "q.csv", text.encode())) == (
        'Le fichier « q.csv » est mal formé à la ligne 3 : un guillemet (") ouvre une '
        "cellule qui n'est jamais refermée."
    )


def test_text_after_a_closing_quote_spoils_its_row_only(tmp_path):
    text = 'Nom;Note\nA;ok\nB;"ok"x\n"C\nsuite"x;1\nD;fin\n'
    table = open_table(write(tmp_path, "q.csv", text.encode()))
    result = list(table.rows())
    # « "C\nsuite"x » is one record: row 4, as a spreadsheet shows it; « D » is row 5.
    assert result == [(2, ["A", "ok"]), (3, ["", ""]), (4, ["", ""]), (5, ["D", "fin"])]
    assert [issue.message for issue in result[1].errors] == [
        "ligne 3 : un guillemet (\") fermant une cellule est suivi d'autres caractères, la "
        "ligne ne peut pas être lue : corrigez-la dans le fichier (un guillemet dans une "
        'cellule entre guillemets s\'écrit "").'
    ]
    assert result[2].errors[0].message.startswith("ligne 4 : ")


# Headers -------------------------------------------------------------------------------------


def test_duplicate_and_empty_headers_are_made_distinct(tmp_path):
    text = "Email;Nom;;Email;email;Nom\na@x.fr;A;1;b@x.fr;c@x.fr;Z\n"
    table = open_table(write(tmp_path, "h.csv", text.encode()))
    assert table.headers == ["Email", "Nom", "Colonne C", "Email (2)", "email (3)", "Nom (2)"]
    assert make_headers(["A", "A (2)", "A"], 4) == ["A", "A (2)", "A (3)", "Colonne D"]


def test_title_row_and_merged_header_above_the_real_header(tmp_path):
    text = (
        "Liste des donateurs 2021;;;\n"
        "\n"
        "Identité;;Coordonnées;\n"
        "Nom;Prénom;Email;Ville\n"
        "Durand;Hélène;h@x.fr;Paris\n"
    )
    table = open_table(write(tmp_path, "dons.csv", text.encode()))
    assert table.info.header_row == 4
    assert table.headers == ["Nom", "Prénom", "Email", "Ville"]
    assert rows(table) == [(5, ["Durand", "Hélène", "h@x.fr", "Paris"])]
    assert table.info.warnings == [
        "La ligne d'en-têtes détectée est la ligne 4 : les lignes au-dessus (titre, "
        "en-têtes fusionnés) sont ignorées."
    ]


def test_a_data_looking_first_row_is_still_taken_as_header_when_nothing_better(tmp_path):
    text = "Durand;h@x.fr;12,50\nMartin;m@x.fr;3\n"
    table = open_table(write(tmp_path, "nohead.csv", text.encode()))
    assert table.info.header_row == 1
    table = open_table(write(tmp_path, "nohead.csv", text.encode()), header_row=0)
    assert table.headers == ["Colonne A", "Colonne B", "Colonne C"]
    assert rows(table)[0] == (1, ["Durand", "h@x.fr", "12,50"])


def test_header_row_can_be_chosen(tmp_path):
    text = "Titre\nA;B\nC;D\n"
    table = open_table(write(tmp_path, "t.csv", text.encode()), header_row=2)
    assert table.headers == ["A", "B"]
    assert rows(table) == [(3, ["C", "D"])]
    assert refused(write(tmp_path, "t.csv", b"A;B\n\nC;D\n"), header_row=2) == (
        "La ligne 2 du fichier « t.csv » est vide ou n'existe pas : elle ne peut pas être "
        "la ligne d'en-têtes."
    )


def test_short_rows_are_padded_and_extra_cells_reported(tmp_path):
    lines = ["Nom;Prénom;Ville"] + ["A;B;C"] * 55 + ["Durand", "Martin;Paul;Lyon;en trop;;", ""]
    table = open_table(write(tmp_path, "x.csv", "\n".join(lines).encode()))
    assert table.headers == ["Nom", "Prénom", "Ville"]
    *_, short, long = list(table.rows())
    assert short == (57, ["Durand", "", ""]) and short.issues == ()
    assert long == (58, ["Martin", "Paul", "Lyon"])
    assert [issue.message for issue in long.issues] == [
        "ligne 58 : 1 cellule(s) au-delà de la dernière colonne (C) ignorée(s) : « en trop »."
    ]
    assert not long.errors


def test_trailing_delimiters_and_short_rows_are_plain_rows(tmp_path):
    lines = ["Nom;Prénom;Ville;"] + ["A;B;C;"] * 3 + ["D;E", "F;G;H;;;"]
    table = open_table(write(tmp_path, "t.csv", "\n".join(lines).encode()))
    assert table.headers == ["Nom", "Prénom", "Ville"]
    result = list(table.rows())
    assert result[-2:] == [(5, ["D", "E", ""]), (6, ["F", "G", "H"])]
    assert all(row.issues == () for row in result)


def test_a_zero_beyond_the_last_column_of_a_sheet_is_reported_not_dropped(tmp_path):
    path = tmp_path / "z.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Nom", "Montant"])
    for row in range(1, 60):
        sheet.write_row(row, 0, ["A", 1])
    sheet.write_row(60, 0, ["B", 2, None, 0])
    workbook.close()
    with open_table(path) as table:
        last = list(table.rows())[-1]
        assert last == (61, ["B", 2])
        assert [issue.message for issue in last.issues] == [
            "ligne 61 : 1 cellule(s) au-delà de la dernière colonne (B) ignorée(s) : « 0 »."
        ]


def test_data_wider_than_the_header_gets_named_columns(tmp_path):
    table = open_table(write(tmp_path, "w.csv", b"Nom;Email\nA;a@x.fr;note\n"))
    assert table.headers == ["Nom", "Email", "Colonne C"]


def test_huge_cells_are_row_errors_not_crashes(tmp_path):
    big = "x" * 40_000
    text = f'Nom;Note\nA;"{big}"\nB;ok\n'
    table = open_table(write(tmp_path, "big.csv", text.encode()))
    first, second = list(table.rows())
    assert [issue.message for issue in first.errors] == [
        "ligne 2, colonne « Note » : la cellule fait 40\u202f000 caractères (32\u202f767 au plus)."
    ]
    assert first.errors[0].column == 1
    assert second == (3, ["B", "ok"]) and not second.issues


def test_a_cell_beyond_the_csv_limit_stops_with_a_clear_message(tmp_path):
    text = 'Nom;Note\nA;ok\nB;"' + "y" * (1024 * 1024 + 10) + '"\n'
    assert refused(write(tmp_path, "huge.csv", text.encode())) == (
        "Le fichier « huge.csv » est mal formé à la ligne 3 : une cellule dépasse "
        '1\u202f048\u202f576 caractères — le plus souvent un guillemet (") ouvert et '
        "jamais refermé."
    )


# Refusals and odd files -----------------------------------------------------------------------


def test_empty_files(tmp_path):
    assert refused(write(tmp_path, "vide.csv", b"")) == "Le fichier « vide.csv » est vide."
    assert refused(write(tmp_path, "blanc.csv", b"\n\n;;\n  \n")) == (
        "Le fichier « blanc.csv » est vide."
    )


def test_a_file_with_only_a_header(tmp_path):
    table = open_table(write(tmp_path, "h.csv", b"Nom;Email\n"))
    assert table.headers == ["Nom", "Email"]
    assert rows(table) == []
    assert table.preview(5) == []
    assert table.info.warnings == [
        "Le fichier « h.csv » ne contient que la ligne d'en-têtes : aucune ligne à importer."
    ]


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "un document PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "une image PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "une image JPEG"),
        (bytes(range(256)) * 4, "un fichier binaire"),
    ],
)
def test_pdf_image_or_binary_renamed_csv_is_refused(tmp_path, data, what):
    assert refused(write(tmp_path, "dons.csv", data)) == (
        f"Le fichier « dons.csv » n'est ni un CSV ni un classeur (XLSX, XLS, ODS) : c'est {what}."
    )


def test_html_sold_as_xls_is_refused_with_advice(tmp_path):
    path = write(tmp_path, "export.xls", b"<html><body><table><tr><td>a</td></tr></table>")
    assert "c'est une page web (HTML)" in refused(path)


def test_zip_that_is_no_workbook(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w/>")
    assert refused(write(tmp_path, "a.xlsx", buffer.getvalue())) == (
        "Le fichier « a.xlsx » n'est ni un CSV ni un classeur (XLSX, XLS, ODS) : "
        "c'est un document Word."
    )
    assert "archive ZIP endommagée" in refused(write(tmp_path, "b.xlsx", b"PK\x03\x04broken"))


def test_a_damaged_workbook_is_refused_in_french(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<pas du xml")
    assert refused(write(tmp_path, "abime.xlsx", buffer.getvalue())) == (
        "Le classeur Excel (XLSX) « abime.xlsx » n'a pas pu être lu : il est endommagé ou "
        "incomplet. Ouvrez-le dans votre tableur et enregistrez-le à nouveau."
    )


def test_size_limit_from_settings(tmp_path, settings):
    settings.LIEN_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    path = write(tmp_path, "gros.csv", b"a;b\n" * (800 * 1024))
    assert refused(path) == "Le fichier « gros.csv » pèse 3,1 Mo : la limite est de 2 Mo."
    assert format_mo(50 * 1024 * 1024) == "50 Mo"


def test_text_named_xlsx_is_read_as_csv_with_a_warning(tmp_path):
    info = sniff(write(tmp_path, "dons.xlsx", FRENCH.encode()), "dons.xlsx")
    assert info.kind == "csv"
    assert info.warnings == [
        "Le fichier « dons.xlsx » n'est pas un classeur Excel (XLSX) : c'est un fichier "
        "texte, lu comme un CSV."
    ]
    table = open_table(write(tmp_path, "dons.xlsx", FRENCH.encode()))
    assert table.headers == ["Nom", "Prénom", "Ville"]


def test_xls_is_sniffed_by_its_ole2_magic_and_a_broken_one_refused(tmp_path):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000
    info = sniff(write(tmp_path, "dons.csv", ole), "dons.csv")
    assert info.kind == "xls"
    assert info.label == "classeur Excel 97-2003 (XLS)"
    assert info.warnings == [
        "Le fichier « dons.csv » n'est pas un fichier CSV : c'est un classeur Excel 97-2003 (XLS)."
    ]
    assert refused(write(tmp_path, "dons.xls", ole)) == (
        "Le fichier « dons.xls » a l'en-tête d'un classeur Excel 97-2003 (XLS) mais n'a pas "
        "pu être lu : il est endommagé ou c'est un autre document Office. Ouvrez-le dans "
        "votre tableur et enregistrez-le en XLSX."
    )
    encrypted = ole + "EncryptedPackage".encode("utf-16-le")
    assert refused(write(tmp_path, "secret.xlsx", encrypted)) == (
        "Le classeur « secret.xlsx » est protégé par un mot de passe : enregistrez-le sans "
        "mot de passe puis importez-le à nouveau."
    )


def test_bytes_can_be_read_like_paths():
    table = open_table(FRENCH.encode("cp1252"), filename="envoi.csv")
    assert table.info.filename == "envoi.csv"
    assert rows(table)[0] == (2, ["Durand", "Hélène", "Orléans"])


def test_info_is_json_ready(tmp_path):
    table = open_table(write(tmp_path, "c.csv", FRENCH.encode()))
    assert table.info.as_dict() == {
        "filename": "c.csv",
        "kind": "csv",
        "size": len(FRENCH.encode()),
        "encoding": "utf-8",
        "delimiter": ";",
        "sheets": [],
        "sheet": None,
        "header_row": 1,
        "warnings": [],
    }
    assert table.info.delimiter_label == "point-virgule"


def test_row_unpacks_as_a_pair():
    row = Row(3, ["a"])
    number, cells = row
    assert (number, cells, row.number, row.cells, row.issues) == (3, ["a"], 3, ["a"], ())
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


# Workbooks -----------------------------------------------------------------------------------


def write_xlsx(path):
    workbook = xlsxwriter.Workbook(str(path))
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet = workbook.add_worksheet("Dons 2021")
    # A title two rows above the header, the table starting in column B.
    sheet.write(0, 1, "Dons reçus en 2021")
    sheet.write_row(2, 1, ["Nom", "Date (série)", "Date", "Montant", "CP", "Formule", "Nom"])
    sheet.write_row(3, 1, ["  Durand  ", None, None, 12.5, 1000, None, "x"])
    sheet.write_string(3, 6, "=SUM(A1)")  # text that looks like a formula stays text
    sheet.write_number(3, 2, 44503, day)  # a serial number shown as a date: 03/11/2021
    sheet.write_datetime(3, 3, dt.datetime(2021, 11, 3, 10, 30), day)
    sheet.write_row(5, 1, ["Martin", None, None, 20.0, "01000", None, ""])
    sheet.write_formula(5, 6, '="tex"&"te"', None, "texte")  # a formula: its last value
    sheet.write_datetime(5, 2, dt.datetime(2020, 2, 29), day)
    sheet.write_datetime(5, 3, dt.datetime(2020, 2, 29), day)
    workbook.add_worksheet("Vide")
    other = workbook.add_worksheet("Adhésions")
    other.write_row(0, 0, ["Email", "Année"])
    other.write_row(1, 0, ["a@x.fr", 2024])
    workbook.close()
    return path


def test_xlsx_dates_numbers_and_layout(tmp_path):
    table = open_table(write_xlsx(tmp_path / "dons.xlsx"))
    info = table.info
    assert (info.kind, info.sheets, info.sheet) == (
        "xlsx",
        ["Dons 2021", "Vide", "Adhésions"],
        "Dons 2021",
    )
    assert info.header_row == 3
    assert table.headers == ["Nom", "Date (série)", "Date", "Montant", "CP", "Formule", "Nom (2)"]
    assert [table.column_letter(i) for i in range(2)] == ["B", "C"]
    assert rows(table) == [
        (4, ["Durand", dt.date(2021, 11, 3), dt.datetime(2021, 11, 3, 10, 30), 12.5, 1000,
             "=SUM(A1)", "x"]),
        (6, ["Martin", dt.date(2020, 2, 29), dt.date(2020, 2, 29), 20, "01000", "texte", ""]),
    ]  # fmt: skip
    table.close()


def test_xlsx_sheet_choice(tmp_path):
    path = write_xlsx(tmp_path / "dons.xlsx")
    with open_table(path, sheet="Adhésions") as table:
        assert table.headers == ["Email", "Année"]
        assert rows(table) == [(2, ["a@x.fr", 2024])]
    with open_table(path, sheet=2) as table:
        assert table.info.sheet == "Adhésions"
    assert refused(path, sheet="Vide") == (
        "La feuille « Vide » du classeur « dons.xlsx » est vide."
    )
    assert refused(path, sheet="Nope") == (
        "La feuille « Nope » n'existe pas dans le classeur « dons.xlsx » (feuilles : "
        "« Dons 2021 », « Vide », « Adhésions »)."
    )


def test_the_first_visible_sheet_is_the_default(tmp_path):
    path = tmp_path / "cache.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    hidden = workbook.add_worksheet("Paramètres")
    hidden.write_row(0, 0, ["Clé", "Valeur"])
    hidden.hide()
    shown = workbook.add_worksheet("Contacts")
    shown.write_row(0, 0, ["Nom", "Email"])
    shown.write_row(1, 0, ["Durand", "d@x.fr"])
    shown.activate()
    workbook.close()
    with open_table(path) as table:
        assert table.info.sheets == ["Paramètres", "Contacts"]
        assert table.info.sheet == "Contacts"
        assert table.headers == ["Nom", "Email"]


def test_xlsx_named_csv_is_read_as_xlsx(tmp_path):
    path = write_xlsx(tmp_path / "dons.xlsx")
    renamed = write(tmp_path, "dons.csv", path.read_bytes())
    with open_table(renamed) as table:
        assert table.info.kind == "xlsx"
        assert table.info.warnings[0] == (
            "Le fichier « dons.csv » n'est pas un fichier CSV : c'est un classeur Excel (XLSX)."
        )
    with open_table(path.read_bytes(), filename="upload.xlsx", sheet="Adhésions") as table:
        assert rows(table) == [(2, ["a@x.fr", 2024])]


ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods_cell(value):
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, dt.date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p>'
        "</table:table-cell>"
    )


def write_ods(path, sheets):
    """A minimal valid ODS: the mimetype stored first, a manifest, content.xml."""
    body = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join(
            "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
            for row in table_rows
        )
        + "</table:table>"
        for name, table_rows in sheets.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} '
        f'office:version="1.2"><office:body><office:spreadsheet>{body}'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return path


def test_ods(tmp_path):
    path = write_ods(
        tmp_path / "adherents.ods",
        {
            "Adhérents": [
                ["Nom", "Date", "Montant", "CP"],
                ["Hélène ", dt.date(2021, 11, 3), 12.5, 1000],
                [None],
                ["Bob", dt.date(2020, 1, 1), 3.0, "01000"],
            ]
        },
    )
    assert sniff(path).kind == "ods"
    with open_table(path) as table:
        assert table.info.sheets == ["Adhérents"]
        assert table.headers == ["Nom", "Date", "Montant", "CP"]
        assert rows(table) == [
            (2, ["Hélène", dt.date(2021, 11, 3), 12.5, 1000]),
            (4, ["Bob", dt.date(2020, 1, 1), 3, "01000"]),
        ]


# Round trip ----------------------------------------------------------------------------------

cell_text = st.text(
    alphabet=st.characters(
        codec="cp1252", categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x00"
    ),
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(st.lists(cell_text, min_size=3, max_size=3), max_size=8),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_any_written_csv_reads_back(tmp_path, body, delimiter, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Nom", "Prénom", "Note"])
    writer.writerows(body)
    path = write(tmp_path, "rt.csv", buffer.getvalue().encode(encoding))
    # Random Windows-1252 text may look like Mac Roman (« Ž » alone): detection is tested above.
    chosen = "cp1252" if encoding == "cp1252" else None
    table = open_table(path, delimiter=delimiter, header_row=1, encoding=chosen)
    expected = [
        (number, [cell.strip() for cell in cells])
        for number, cells in enumerate(body, start=2)
        if any(cell.strip() for cell in cells)
    ]
    assert rows(table) == expected


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.sampled_from(
        [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"PK\x03\x04",
         b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"Nom;Email\n", b'"', b"<html>"]
    ),
    body=st.binary(max_size=300),
    name=st.sampled_from(["f.csv", "f.xlsx", "f.ods", "f"]),
    header_row=st.one_of(st.none(), st.integers(-1, 5)),
)  # fmt: skip
def test_any_bytes_give_a_table_or_a_french_error(prefix, body, name, header_row):
    try:
        table = open_table(prefix + body, filename=name, header_row=header_row)
        list(table.rows())
        table.close()
    except FileError as error:
        assert error.message.endswith(".")
