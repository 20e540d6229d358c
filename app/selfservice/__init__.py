"""The taxpayer portal (/self-service/): SPID/CIE login, own positions, documents, payments, plan requests,
uploads and contacts."""
