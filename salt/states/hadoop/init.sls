{#- roles/hadoop (main): the hadoop system user, Hadoop (the Apache release, checksummed, or
    its jars from Maven Central), the state directories, the configuration (the role's own
    templates) and the NameNode formatted once. A configuration change stops the running
    daemons; hadoop.start starts them again with the new files. -#}
{%- from "drc/map.jinja" import drc, context, groups, me with context %}
{%- if me in groups.hdfs_namenode or me in groups.hdfs_datanodes %}
{%- set home = drc.hadoop_home %}
{%- if (drc.hadoop_replication | int) < 1 %}
{{ raise("hdfs_datanodes is empty: HDFS needs at least one DataNode.") }}
{%- endif %}

# Test hosts in network namespaces share /etc/passwd: a concurrent useradd is retried.
drc-hadoop-user:
  user.present:
    - name: {{ drc.hadoop_user }}
    - system: true
    - shell: /usr/sbin/nologin
    - home: /home/{{ drc.hadoop_user }}
    - createhome: true
    - retry: {attempts: 5, interval: 2}

{%- if drc.hadoop_install_method == "tarball" %}
{%- if drc.hadoop_version not in drc.hadoop_sha256 %}
{{ raise("No SHA-256 pinned for Hadoop " ~ drc.hadoop_version ~ ": add hadoop_sha256['" ~ drc.hadoop_version ~ "'] from the release page before installing it.") }}
{%- endif %}
# Mirrors in order (the archive keeps every release), each verified by the pinned checksum.
drc-hadoop-installed:
  archive.extracted:
    - name: {{ drc.hadoop_install_dir }}
    - source:
{%- for mirror in drc.hadoop_mirrors %}
      - {{ mirror }}/hadoop-{{ drc.hadoop_version }}/hadoop-{{ drc.hadoop_version }}.tar.gz
{%- endfor %}
    - source_hash: sha256={{ drc.hadoop_sha256[drc.hadoop_version] }}
    - if_missing: {{ home }}/share/hadoop/hdfs
    - retry: {attempts: {{ drc.hadoop_download_retries }}, interval: 5}
{%- else %}
drc-hadoop-maven:
  pkg.installed:
    - pkgs: {{ drc.hadoop_maven_packages | tojson }}
    - refresh: true
    - unless: command -v mvn
    - retry: {attempts: 5, interval: 5}  # a concurrent apt on a shared disk

drc-hadoop-pom:
  file.managed:
    - name: {{ home }}.build/pom.xml
    - source: salt://roles/hadoop/files/pom.xml
    - makedirs: true
    - mode: "0644"

# Nodes sharing a filesystem install into one directory: flock serialises them; a pom that
# changed rebuilds the whole home (the same command as the role's).
drc-hadoop-installed:
  cmd.run:
    - name: >-
        flock {{ home }}.build/.lock sh -ec '
        [ -f "$1/.drc-installed" ] && cmp -s "$1/.drc-installed" "$1.build/pom.xml" && exit 0;
        rm -rf "$1.partial";
        mvn -B -q -f "$1.build/pom.xml" -Dmaven.repo.local="$2" -Ddrc.home="$1.partial"
        -Dhadoop.version="$3" generate-resources;
        cp "$1.build/pom.xml" "$1.partial/.drc-installed";
        rm -rf "$1"; mv "$1.partial" "$1"' hadoop-install
        {{ home }} {{ drc.hadoop_maven_repo }} {{ drc.hadoop_version }}
    - unless: cmp -s {{ home }}/.drc-installed {{ home }}.build/pom.xml
    - require:
      - pkg: drc-hadoop-maven
      - file: drc-hadoop-pom
{%- endif %}

{%- for dir in [drc.hadoop_root.rsplit("/", 1)[0], drc.hadoop_root, drc.hadoop_conf_dir] %}
drc-hadoop-dir-{{ dir }}:
  file.directory:
    - name: {{ dir }}
    - mode: "0755"
    - makedirs: true
{%- endfor %}

{%- for dir in [drc.hadoop_name_dir, drc.hadoop_data_dir, drc.hadoop_log_dir, drc.hadoop_pid_dir,
                drc.hadoop_root ~ "/tmp"] %}
drc-hadoop-dir-{{ dir }}:
  file.directory:
    - name: {{ dir }}
    - user: {{ drc.hadoop_user }}
    - group: {{ drc.hadoop_user }}
    - mode: "0700"
    - makedirs: true
    - require:
      - user: drc-hadoop-user
{%- endfor %}

{%- set files = {"core-site.xml": "0644", "hdfs-site.xml": "0644", "workers": "0644",
                 "log4j.properties": "0644", "hdfs-daemon.sh": "0755"} %}
{%- for name, mode in files.items() %}
drc-hadoop-conf-{{ name }}:
  file.managed:
    - name: {{ drc.hadoop_conf_dir }}/{{ name }}
    - source: salt://roles/hadoop/templates/{{ name }}.j2
    - template: jinja
    - context: {{ context | tojson }}
    - mode: "{{ mode }}"
    - require:
      - file: drc-hadoop-dir-{{ drc.hadoop_conf_dir }}
{%- endfor %}

# The client commands (fsck, dfsadmin, a read that reports bad replicas): no daemon reads
# this file, so a change restarts nothing.
drc-hadoop-conf-hdfs.sh:
  file.managed:
    - name: {{ drc.hadoop_conf_dir }}/hdfs.sh
    - source: salt://roles/hadoop/templates/hdfs.sh.j2
    - template: jinja
    - context: {{ context | tojson }}
    - mode: "0755"
    - require:
      - file: drc-hadoop-dir-{{ drc.hadoop_conf_dir }}

drc-hadoop-stop-on-change:
  cmd.run:
    - name: >-
        for daemon in datanode namenode; do
        [ -f {{ drc.hadoop_pid_dir }}/hadoop-{{ drc.hadoop_user }}-$daemon.pid ] &&
        {{ drc.hadoop_conf_dir }}/hdfs-daemon.sh stop $daemon; done; true
    - onchanges:
{%- for name in files %}
      - file: drc-hadoop-conf-{{ name }}
{%- endfor %}

{%- if me in groups.hdfs_namenode %}
# Once: formatting again would orphan every block on the DataNodes.
drc-hadoop-format:
  cmd.run:
    - name: {{ drc.hadoop_conf_dir }}/hdfs-daemon.sh format namenode
    - creates: {{ drc.hadoop_name_dir }}/current/VERSION
    - require:
      - drc-hadoop-installed
      - drc-hadoop-conf-hdfs-daemon.sh
      - drc-hadoop-stop-on-change
{%- endif %}
{%- endif %}
