"""Turn the wechatpay-openapi Swagger 2.0 catalogue into the project's YAML specs.

The modules follow the data:

- ``source``    reads the catalogue: YAML files, ``$ref`` resolution, the list of paths
- ``schema``    converts a Swagger schema into JSON Schema 2020-12 and notes runtime marks
- ``keywords``  keyword tables and value coercions the conversion shares
- ``marks``     JSON pointers to fields the runtime encrypts, decrypts or re-encodes
- ``text``      reads facts out of prose: short field labels, doc links, upload limits
- ``policy``    knowledge from outside the catalogue: hosts, unsigned answers, overrides
- ``operation`` builds one operation entry of a spec file
- ``output``    writes the spec files, ``index.tsv`` and removes stale files

``tools/import_specs.py`` is the command line entry point.
"""
