"""Reports for leaders: the daily brief (舆情日报), the weekly summary (舆情周报) and the special
report (舆情专报), as an HTML page, a Word document and a PDF, archived under the instance folder.

figures.py / special.py compute what a report says from the records; charts.py draws it;
html.py, docx.py and pdf.py write it; archive.py stores and lists the files; jobs call archive.
"""
