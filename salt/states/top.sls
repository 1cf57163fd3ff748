# state.apply without arguments: every node configured and its daemons started, as
# `drc salt apply` does phase by phase (it also gates between the phases).
base:
  '*':
    - firewall
    - java
    - python_env
    - spark
    - hadoop
    - sbt
    - hadoop.start
    - spark.start
