"""The knowledge base for operators (issue 12 point 4): news, office hours, office contacts, FAQ and
procedures, with validity dates and tags, searched in Italian through `search/`."""
