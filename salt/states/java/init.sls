{#- roles/java: the JDK from Debian where it is missing, then its major version checked. #}
{%- from "drc/map.jinja" import drc with context %}
drc-java-installed:
  pkg.installed:
    - name: {{ drc.java_package }}
    - refresh: true
    - unless: test -x {{ drc.java_home }}/bin/java

drc-java-version:
  cmd.run:
    - name: >-
        echo "{{ drc.java_home }}/bin/java is not Java {{ drc.java_major_version }}" >&2; exit 1
    - unless: >-
        {{ drc.java_home }}/bin/java -version 2>&1 | grep -q 'version "{{ drc.java_major_version }}\.'
    - require:
      - pkg: drc-java-installed
