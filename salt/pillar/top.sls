base:
  '*':
    - drc
