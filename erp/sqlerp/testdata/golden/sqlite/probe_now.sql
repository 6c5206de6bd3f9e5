SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now')
