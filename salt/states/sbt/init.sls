{#- roles/sbt: on the first master only (spark-submit ships the jar from there), the pinned
    sbt launcher (fetched by Debian's maven, installed only if its SHA-256 is the pinned
    one), a repositories file with Maven Central only, the job's sources copied into the
    build user's home and `drc build-scala` (sbt package as that user, only when a source
    changed; a failed build keeps the previous jar). Same sources, launcher and jar as the
    role. -#}
{%- from "drc/map.jinja" import drc, groups, me with context %}
{%- import "spark/daemons.jinja" as daemons %}
{%- if me == groups.spark_master[0] %}
{%- if drc.sbt_launch_version not in drc.sbt_launch_sha256 %}
{{ raise("sbt-launch " ~ drc.sbt_launch_version ~ " has no SHA-256 in sbt_launch_sha256: pin the one of Maven Central's org.scala-sbt:sbt-launch:" ~ drc.sbt_launch_version ~ " jar first") }}
{%- endif %}
{%- if drc.spark_install_method == "tarball" %}
{%- set spark_home = drc.spark_install_dir ~ "/" ~ drc.spark_package %}
{%- else %}
{%- set spark_home = daemons.wheel_home(drc) %}
{%- endif %}

drc-sbt-user:
  cmd.run:
    - name: "echo 'user {{ drc.sbt_user }} does not exist: apply the hadoop state on this node first' >&2; exit 1"
    - unless: getent passwd {{ drc.sbt_user }}

drc-sbt-maven:
  pkg.installed:
    - pkgs: {{ drc.sbt_packages | tojson }}
    - refresh: true
    - unless: command -v mvn
    - retry: {attempts: 5, interval: 5}  # a concurrent apt on a shared disk

{%- for dir in [drc.sbt_root, drc.sbt_root ~ "/.sbt", drc.sbt_launcher.rsplit("/", 1)[0],
                drc.sbt_repositories.rsplit("/", 1)[0], drc.sbt_project_dir,
                drc.sbt_project_dir ~ "/project"] %}
drc-sbt-dir-{{ loop.index }}:
  file.directory:
    - name: {{ dir }}
    - user: {{ drc.sbt_user }}
    - group: {{ drc.sbt_user }}
    - mode: "0755"
    - require:
      - cmd: drc-sbt-user
{%- endfor %}

# Verified before it is put in place: a launcher whose SHA-256 differs is never installed.
drc-sbt-launcher:
  cmd.run:
    - name: >-
        tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT;
        mvn -B -q -Dmaven.repo.local={{ drc.sbt_maven_repo }}
        org.apache.maven.plugins:maven-dependency-plugin:{{ drc.sbt_maven_dependency_plugin }}:copy
        -Dartifact=org.scala-sbt:sbt-launch:{{ drc.sbt_launch_version }} -DoutputDirectory="$tmp";
        if ! echo "{{ drc.sbt_launch_sha256[drc.sbt_launch_version] }}  $tmp/sbt-launch-{{ drc.sbt_launch_version }}.jar" | sha256sum -c --status; then
        echo "sbt-launch-{{ drc.sbt_launch_version }}.jar: SHA-256 is not the pinned {{ drc.sbt_launch_sha256[drc.sbt_launch_version] }}; nothing installed" >&2; exit 1; fi;
        install -m 0644 "$tmp/sbt-launch-{{ drc.sbt_launch_version }}.jar" {{ drc.sbt_launcher }}
    - creates: {{ drc.sbt_launcher }}
    - require:
      - pkg: drc-sbt-maven
      - file: drc-sbt-dir-3

drc-sbt-repositories:
  file.managed:
    - name: {{ drc.sbt_repositories }}
    - contents: |
        [repositories]
          local
          maven-central
    - user: {{ drc.sbt_user }}
    - group: {{ drc.sbt_user }}
    - mode: "0644"
    - require:
      - file: drc-sbt-dir-4

{%- for name in ["build.sbt", "project/build.properties"] %}
drc-sbt-source-{{ loop.index }}:
  file.managed:
    - name: {{ drc.sbt_project_dir }}/{{ name }}
    - source: salt://jobs/scala/{{ name }}
    - user: {{ drc.sbt_user }}
    - group: {{ drc.sbt_user }}
    - mode: "0644"
    - require:
      - file: drc-sbt-dir-6
{%- endfor %}

drc-sbt-source-src:
  file.recurse:
    - name: {{ drc.sbt_project_dir }}/src
    - source: salt://jobs/scala/src
    - user: {{ drc.sbt_user }}
    - group: {{ drc.sbt_user }}
    - file_mode: "0644"
    - dir_mode: "0755"
    - require:
      - file: drc-sbt-dir-5

# `drc build-scala` prints "built JAR" only when it ran sbt: Salt's stateful line from that.
drc-sbt-build:
  cmd.run:
    - name: >-
        out=$({{ drc.drc_venv }}/bin/drc build-scala {{ drc.sbt_project_dir }}
        --launcher {{ drc.sbt_launcher }} --sbt-home {{ drc.sbt_root }}
        --repositories {{ drc.sbt_repositories }} --spark-home "{{ spark_home }}"
        --java {{ drc.sbt_java }} --run-as {{ drc.sbt_user }}) && echo "$out" &&
        if echo "$out" | grep -q '^built '; then echo "changed=yes"; else echo "changed=no"; fi
    - stateful: true
    - require:
      - cmd: drc-sbt-launcher
      - file: drc-sbt-repositories
      - file: drc-sbt-source-1
      - file: drc-sbt-source-2
      - file: drc-sbt-source-src
{%- endif %}
