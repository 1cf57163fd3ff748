{#- roles/python_env: the project's code (where the node has its own copy) and its venv with
    the pinned packages; the job code must import. -#}
{%- from "drc/map.jinja" import drc with context %}
{%- set venv = drc.drc_venv %}
{%- if drc.drc_src != drc.drc_repo %}
{%- for part in ["jobs", "provision", "requirements"] %}
drc-code-{{ part }}:
  file.recurse:
    - name: {{ drc.drc_src }}/{{ part }}
    - source: salt://{{ part }}
    - exclude_pat: "E@__pycache__"
    - require_in:
      - cmd: drc-venv-packages
{%- endfor %}
{%- for part in ["pyproject.toml", "requirements.lock"] %}
drc-code-{{ part }}:
  file.managed:
    - name: {{ drc.drc_src }}/{{ part }}
    - source: salt://{{ part }}
    - makedirs: true
    - require_in:
      - cmd: drc-venv-packages
{%- endfor %}
{%- endif %}

{%- if drc.drc_python == "python3" %}
drc-venv-debian-packages:
  pkg.installed:
    - pkgs: {{ drc.python_env_packages | tojson }}
    - refresh: true
    - unless: test -x {{ venv }}/bin/python
    - require_in:
      - cmd: drc-venv-packages
{%- endif %}

# The requirement files this node installs (python_env_requirements: the runtime, and the
# CNN's where python_env_cnn), each copied into the venv as installed: a changed one
# reinstalls (one copy per file: hosts sharing a venv may install different sets).
drc-venv-packages:
  cmd.run:
    - name: >-
        set -e;
        test -x {{ venv }}/bin/python || {{ drc.drc_python }} -m venv {{ venv }};
        {{ venv }}/bin/pip install --quiet --disable-pip-version-check
        {%- for file in drc.python_env_requirements %} -r {{ file }}{% endfor %};
        test -x {{ venv }}/bin/drc || {{ venv }}/bin/pip install --quiet --disable-pip-version-check --no-deps --editable {{ drc.drc_src }};
        {%- for file in drc.python_env_requirements %}
        cp {{ file }} {{ venv }}/.drc-installed-{{ file.rsplit("/", 1)[-1] }};
        {%- endfor %}
        true
    - unless: >-
        test -x {{ venv }}/bin/drc
        {%- for file in drc.python_env_requirements %}
        && cmp -s {{ file }} {{ venv }}/.drc-installed-{{ file.rsplit("/", 1)[-1] }}
        {%- endfor %}

drc-venv-imports:
  cmd.run:
    - name: >-
        echo "{{ venv }}: the job code does not import" >&2; exit 1
    - unless: {{ venv }}/bin/python -c 'import jobs.preprocess.images, jobs.spark.apps'
    - require:
      - cmd: drc-venv-packages
